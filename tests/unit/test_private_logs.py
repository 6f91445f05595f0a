"""Local logs carry names, addresses and emails: only their owner may read them (issue 21)."""
import stat
import sys

from deploy.local.run import start_process
from deploy.local.servers.base import open_private_log


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_log_is_created_for_its_owner_only_and_an_old_one_is_tightened(tmp_path):
    fresh = tmp_path / "logs" / "emails.log"
    with open_private_log(fresh) as log:
        log.write(b"To: famille.martin@example.fr\n")
    assert mode(fresh) == 0o600

    older = tmp_path / "registrations.log"
    older.write_bytes(b"earlier run\n")
    older.chmod(0o644)
    with open_private_log(older) as log:
        log.write(b"appended\n")
    assert mode(older) == 0o600
    assert older.read_bytes() == b"earlier run\nappended\n"


def test_the_processes_of_make_run_write_private_logs(tmp_path):
    process = start_process("emails", [sys.executable, "-c", "print('Subject: Votre place')"], {}, log_dir=tmp_path)
    assert process.wait(timeout=30) == 0
    assert mode(tmp_path / "emails.log") == 0o600
    assert b"Votre place" in (tmp_path / "emails.log").read_bytes()
