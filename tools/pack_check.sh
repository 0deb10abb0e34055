#!/usr/bin/env bash
# Packs the library and the tool into a temporary folder, then uses them as a user would: installs the tool from
# there into a temporary tool path and runs `nn --version` and `nn gradcheck`, and builds and runs a fresh console
# project that references the library package and holds the README's C# example verbatim. Run by .ci/run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props")"

dotnet pack "$root/NeuralNet.sln" -c Release -o "$tmp/packages" --nologo -v quiet
echo "packed: $(cd "$tmp/packages" && ls | tr '\n' ' ')"
for p in "NeuralNet.$version.nupkg" "NeuralNet.$version.snupkg" "NeuralNet.Cli.$version.nupkg"; do
  [[ -f "$tmp/packages/$p" ]] || { echo "pack_check: $p was not produced" >&2; exit 1; }
done
if ls "$tmp/packages" | grep -qvE '^NeuralNet(\.Cli)?\.[0-9.]+\.s?nupkg$'; then
  echo "pack_check: unexpected packages (only the library and the tool are packable)" >&2; exit 1
fi
# The library depends on nothing outside the BCL but System.Numerics.Tensors, and carries README and licence.
nuspec="$(/usr/bin/python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("NeuralNet.nuspec").decode())' "$tmp/packages/NeuralNet.$version.nupkg")"
deps="$(grep -o 'dependency id="[^"]*"' <<<"$nuspec" | sort -u | tr '\n' ' ')"
[[ "$deps" == 'dependency id="System.Numerics.Tensors" ' ]] || { echo "pack_check: library dependencies: $deps" >&2; exit 1; }
grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || { echo "pack_check: no MIT licence expression" >&2; exit 1; }
grep -q '<readme>README.md</readme>' <<<"$nuspec" || { echo "pack_check: no README in the package" >&2; exit 1; }

# The tool, installed from the folder.
dotnet tool install NeuralNet.Cli --version "$version" --tool-path "$tmp/tool" --add-source "$tmp/packages" > /dev/null
"$tmp/tool/nn" --version
"$tmp/tool/nn" --version | grep -qE "^nn $version \(" || { echo "pack_check: unexpected nn --version" >&2; exit 1; }
"$tmp/tool/nn" gradcheck > "$tmp/gradcheck.txt" || { cat "$tmp/gradcheck.txt"; echo "pack_check: nn gradcheck failed" >&2; exit 1; }
tail -n 1 "$tmp/gradcheck.txt"

# A fresh console project with the README's C# example, against the package.
mkdir -p "$tmp/app"
cd "$tmp/app"
cat > nuget.config <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><add key="local" value="$tmp/packages" /></packageSources></configuration>
CONFIG
cat > App.csproj <<PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup><PackageReference Include="NeuralNet" Version="$version" /></ItemGroup>
</Project>
PROJECT
# The first csharp block after the heading "## Using the library from C#".
awk '/^## Using the library from C#/ {s=1} s && /^```csharp/ {c=1; next} c && /^```/ {exit} c {print}' "$root/README.md" > Program.cs
[[ -s Program.cs ]] || { echo "pack_check: no C# example found in README.md" >&2; exit 1; }
dotnet run -c Release --nologo
