"""A full disk: the index lives on a small tmpfs mounted in a private mount
namespace (`unshare -rm`, no root needed where user namespaces are allowed).
Every failing write ends in one line, the previous version stays live, and the
run after space is freed finishes the job."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = r"""
import json, subprocess, sys
from pathlib import Path
from qa import store
docs, index = Path(sys.argv[1]), Path(sys.argv[2])
cli = [sys.executable, "-m", "qa.cli", "index", "--docs", str(docs / "small"), "--index", str(index), "--model", "fake",
       "-q"]
out = {"first": subprocess.run(cli, capture_output=True, text=True).returncode}
before = store.current_version(index).name
cli[cli.index(str(docs / "small"))] = str(docs / "big")
full = subprocess.run(cli, capture_output=True, text=True)
out["full_rc"], out["full_err"] = full.returncode, full.stderr.strip().splitlines()
idx = store.load(index)
out["live_is_previous"] = idx.path.name == before and len(idx.articles) == 2
out["leftovers"] = [p.name for p in (index / "versions").iterdir() if p.name.startswith(".")]
cli[cli.index(str(docs / "big"))] = str(docs / "small")
out["after_rc"] = subprocess.run(cli, capture_output=True, text=True).returncode
print(json.dumps(out))
"""


def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow  # about 5 s: in CI's slow suite, to keep the default suite well under a minute
@pytest.mark.skipif(not _can_mount(), reason="needs unshare and tmpfs in a user namespace")
def test_a_full_disk_ends_in_one_line_and_keeps_the_previous_version(tmp_path: Path):
    docs, mnt = tmp_path / "docs", tmp_path / "mnt"
    (docs / "small").mkdir(parents=True)
    (docs / "big").mkdir()
    mnt.mkdir()
    seeds = sorted(Path(__file__).resolve().parents[1].joinpath("seeds").glob("*.txt"))
    for s in seeds:
        shutil.copy(s, docs / "small")
        shutil.copy(s, docs / "big")
    for i in range(300):  # about 1 MB more to write than the 400 KB disk holds
        (docs / "big" / f"n{i}.txt").write_text(f"خبر {i}\n\n" + f"نص الخبر رقم {i} عن الاقتصاد. " * 60,
                                                  encoding="utf-8")
    (tmp_path / "scenario.py").write_text(SCENARIO, encoding="utf-8")
    script = (f"mount -t tmpfs -o size=400k tmpfs {mnt} && "
              f"{sys.executable} {tmp_path / 'scenario.py'} {docs} {mnt / 'index'}")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["first"] == 0
    assert out["full_rc"] == 2 and len(out["full_err"]) == 1, out["full_err"]
    assert out["full_err"][0].startswith("qa: error: cannot write the index at")
    assert "No space left on device" in out["full_err"][0] and "previous version is still" in out["full_err"][0]
    assert out["live_is_previous"] and out["leftovers"] == []
    assert out["after_rc"] == 0
