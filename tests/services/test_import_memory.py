"""What refusing a hostile workbook costs the `flask crm import` process, measured from outside."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.spreadsheet_builders import write_shared_strings_bomb

ROOT = Path(__file__).resolve().parents[2]
#: Runs the real `flask` command line on an app whose uploads go to a folder of the test's.
CHILD = """
import sys
from flask.cli import FlaskGroup
from crm import create_app

def make_app():
    app = create_app()
    app.instance_path = sys.argv[1]
    return app

FlaskGroup(create_app=make_app).main(sys.argv[2:], prog_name="flask")
"""
#: Runs a command and prints its peak memory in KB last. A process forked from the test's own
#: (large) one would count the test's memory as its own; one forked from this small one does not.
MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, flush=True)
sys.exit(code)
"""
MB = 1024 * 1024


def test_a_shared_strings_bomb_is_refused_by_the_import_command_in_little_memory(
    database_url, tmp_path
):
    # 11 million one-letter entries: 187 MB of XML in a 10 MB file that passes the zip checks
    # (under 200 MB uncompressed, compressed about 18:1); calamine alone took about 680 MB.
    path = write_shared_strings_bomb(tmp_path / "名单.xlsx", 11_000_000)
    with zipfile.ZipFile(path) as archive:
        assert sum(info.file_size for info in archive.infolist()) > 170 * MB
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-only-secret",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("FLASK_DEBUG", None)
    command = [sys.executable, "-c", CHILD, str(tmp_path / "instance"), "crm", "import"]
    command += [str(path), "--kind", "firms", "--dry-run"]
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    *_, peak = result.stdout.split()

    assert result.returncode == 1, result.stdout + result.stderr
    assert "共享字符串表条目数远多于工作表中的 4 个文本单元格" in result.stderr
    assert "已拒绝处理" in result.stderr
    assert int(peak) * 1024 < 300 * MB, peak  # ru_maxrss is in KB on Linux
