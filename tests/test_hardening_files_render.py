"""``designer render`` onto a read-only picture: kept unless --force, which replaces it (still read-only)."""

from __future__ import annotations

import stat

from tests.test_cli import assert_one_line_error, run


def test_render_keeps_a_read_only_picture_unless_forced(capsys, tmp_path):
    picture = tmp_path / "net.svg"
    picture.write_text("mine")
    picture.chmod(0o444)
    code, out, err = run(capsys, "render", "lenet5", "-o", str(picture))
    assert_one_line_error(code, out, err, f"{picture}: is read-only, so it was not replaced; --force replaces")
    assert picture.read_text() == "mine"
    code, _out, err = run(capsys, "render", "lenet5", "-o", str(picture), "--force")
    assert code == 0 and err == f"wrote {picture}\n"
    assert picture.read_text().startswith("<?xml") and stat.S_IMODE(picture.stat().st_mode) == 0o444
