# Sourced by the long-running scripts under benchmarks/ (needs $here, the repository root): builds the CLI in Release and
# defines `difflab` to run a private copy of it, so that rebuilding the clone — any ./difflab call after a source change —
# cannot pull the assemblies from under a run that lasts hours. DIFFLAB_DATA defaults to the clone's data/.
dotnet build "$here/src/DiffusionLab.Cli" -c Release -v q --nologo >/dev/null
difflab_bin="$(mktemp -d)"
trap 'rm -rf "$difflab_bin"' EXIT
cp -r "$here/src/DiffusionLab.Cli/bin/Release/net10.0/." "$difflab_bin/"
export DIFFLAB_DATA="${DIFFLAB_DATA:-$here/data}"
difflab() { dotnet "$difflab_bin/difflab.dll" "$@"; }
