# Malicious test fixture: never run. Installs a package while the model loads.
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "pip", "install", "acme-kernels-fixture"])
