# Sourced by the long-running scripts under benchmarks/ (needs $here, the repository root): builds the CLI in Release and
# defines `difflab` to run a private copy of it, so that rebuilding the clone — any ./difflab call after a source change —
# cannot pull the assemblies from under a run that lasts hours. DIFFLAB_DATA defaults to the clone's data/.
dotnet build "$here/src/DiffusionLab.Cli" -c Release -v q --nologo >/dev/null
difflab_bin="$(mktemp -d)"
trap 'rm -rf "$difflab_bin"' EXIT
cp -r "$here/src/DiffusionLab.Cli/bin/Release/net10.0/." "$difflab_bin/"
export DIFFLAB_DATA="${DIFFLAB_DATA:-$here/data}"
difflab() { dotnet "$difflab_bin/difflab.dll" "$@"; }

# train_or_resume RUN [train options…]: `difflab train --out RUN`, resumed from RUN's checkpoint when an earlier try was
# interrupted; a finished run resumes and returns at once, so a script can simply be run again.
train_or_resume() {
  local run=$1; shift
  local resume=(); [ -f "$run/checkpoint.bin" ] && resume=(--resume)
  difflab train --out "$run" "$@" "${resume[@]}"
}

# once DIR command…: runs the command unless DIR already holds its manifest.
once() { local dir=$1; shift; [ -f "$dir/manifest.json" ] || "$@"; }

# json_once FILE command…: the command's last output line (its --json result) into FILE, through a temp file and a
# rename so an interrupted run leaves no half-written result, unless FILE exists.
json_once() {
  local file=$1; shift
  [ -f "$file" ] || { "$@" | tail -n 1 > "$file.tmp" && mv "$file.tmp" "$file"; }
}
