"""`designer` with no arguments opens the app on the built-in example and keeps running."""

import os
import subprocess
import sys
import time


def test_designer_without_arguments_opens_the_app():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "designer"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(6)
        assert proc.poll() is None, proc.communicate()[1]
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
