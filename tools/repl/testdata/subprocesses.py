# create_subprocess_exec / _shell with PIPE, communicate, line reading, return codes.
import asyncio
from asyncio.subprocess import PIPE


async def main():
    proc = await asyncio.create_subprocess_exec("echo", "hello", "world", stdout=PIPE)
    out, err = await proc.communicate()
    print(out, err, proc.returncode)

    proc = await asyncio.create_subprocess_shell("echo out; echo err 1>&2; exit 3", stdout=PIPE, stderr=PIPE)
    out, err = await proc.communicate()
    print(out, err, proc.returncode)

    proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
    out, _ = await proc.communicate(b"through cat\n")
    print(out.decode().strip(), proc.returncode)

    proc = await asyncio.create_subprocess_shell("for i in 1 2 3; do echo line $i; done", stdout=PIPE)
    lines = []
    while True:
        line = await proc.stdout.readline()
        if not line:
            break
        lines.append(line.decode().rstrip())
    print(lines, await proc.wait())

    proc = await asyncio.create_subprocess_exec("sleep", "10")
    proc.terminate()
    print("terminated:", await proc.wait())

    proc = await asyncio.create_subprocess_shell("exit 0", stdout=asyncio.subprocess.DEVNULL)
    print("devnull:", await proc.wait())

    try:
        await asyncio.create_subprocess_exec("/nonexistent/program")
    except FileNotFoundError as e:
        print("FileNotFoundError", e.errno)


asyncio.run(main())
