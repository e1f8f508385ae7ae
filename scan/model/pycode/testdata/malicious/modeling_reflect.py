# Malicious test fixture: never run. Process execution reached by reflection.
__import__("os").system("id")
getattr(__import__("subprocess"), "check_output")(["uname", "-a"])
