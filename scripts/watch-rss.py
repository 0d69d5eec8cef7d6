#!/usr/bin/env python3
# RSS of `callscope watch` over many ticks (issue 15: memory must not grow over 10 000 ticks), for
# scripts/bench watch-rss. Runs `CALLSCOPE watch IMAGE --interval 1ms --format jsonl --offline`
# one tick longer than asked, reads /proc/PID/status VmRSS when the WARMUP-th tick line arrives and
# again when the TICKS-th does (the process is still ticking then), and prints both with the tick
# times. Usage: watch-rss.py CALLSCOPE IMAGE [TICKS [WARMUP]] [-- more watch arguments]
import json, statistics, subprocess, sys

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise SystemExit(f"watch-rss: no VmRSS for {pid}")

args = sys.argv[1:]
extra = []
if "--" in args:
    extra = args[args.index("--") + 1:]
    args = args[:args.index("--")]
callscope, image = args[0], args[1]
ticks = int(args[2]) if len(args) > 2 else 10000
warmup = int(args[3]) if len(args) > 3 else 50
cmd = [callscope, "watch", image, "--interval", "1ms", "--count", str(ticks + 1), "--format", "jsonl", "--offline"] + extra
proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
seen, samples, times = 0, {}, []
for line in proc.stdout:
    event = json.loads(line)
    if event.get("event") != "tick":
        continue
    seen += 1
    times.append(event["tickMs"])
    if seen in (warmup, ticks):
        samples[seen] = rss_kib(proc.pid)
status = proc.wait()
if status != 0 or len(samples) != 2:
    raise SystemExit(f"watch-rss: watch ended with status {status} after {seen} ticks")
start, end = samples[warmup], samples[ticks]
times.sort()
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"ticks {seen}: VmRSS {start} KiB at tick {warmup}, {end} KiB at tick {ticks}: "
      f"{end - start:+d} KiB ({(end - start) / max(start, 1) * 100:+.1f} %)")
print(f"tickMs median {statistics.median(times):.1f}, p90 {pick(0.9):.1f}, p99 {pick(0.99):.1f}, min {times[0]:.1f}")
