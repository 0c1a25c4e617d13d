import subprocess
import requests

# ruleid: py-eval
result = eval(user_input)
# ok: py-eval
result = evaluate(user_input)

# ruleid: py-shell-true
subprocess.call(command, shell=True)
# ruleid: py-shell-true
subprocess.run(["ls", "-l"], check=True, shell=True, cwd="/")
# ok: py-shell-true
subprocess.run(["ls"], check=True)

# ruleid: py-same-operands
if value == value:
    pass
# ok: py-same-operands
if value == other:
    pass


def leaky():
    # ruleid: py-open-no-close
    handle = open("data.txt")
    return handle.read()


def tidy():
    # ok: py-open-no-close
    stream = open("data.txt")
    text = stream.read()
    # ruleid: py-close-after-open
    stream.close()
    return text


def unrelated(other):
    # ok: py-close-after-open
    other.close()


# ruleid: py-requests-no-timeout
requests.get(url)
# ruleid: py-requests-no-timeout
requests.post(url, json=body)
# ok: py-requests-no-timeout
requests.get(url, timeout=5)
# ok: py-requests-no-timeout
requests.post(url, data=body, timeout=(1, 5), verify=True)


# ruleid: py-debug-function
def debug_dump(state):
    print(state)


# ok: py-debug-function
def dump_debug(state):
    print(state)


# ruleid: py-any-string-log
log("starting up")
# ruleid: py-any-string-log
log('single quoted')
# ok: py-any-string-log
log(message)


# ruleid: py-return-none
def nothing(a):
    print(a)
    return None


# ok: py-return-none
def something(a):
    return a
