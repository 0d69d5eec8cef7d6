#!/usr/bin/env python3
# Whole-command times taken in turn (one run of each command, then the next round), so load from
# other work on the machine falls on every command alike; for scripts/bench symbol-less. Prints
# wall and CPU (user + system) p50, min and p90 per command, and each command's ratio to the
# first. Usage: interleaved-time.py RUNS LABEL=COMMAND [LABEL=COMMAND ...] (one warm-up round).
import resource, statistics, subprocess, sys, time

runs = int(sys.argv[1])
commands = [arg.split("=", 1) for arg in sys.argv[2:]]
wall = {label: [] for label, _ in commands}
cpu = {label: [] for label, _ in commands}
for round_ in range(runs + 1):
    for label, command in commands:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, shell=True, stdout=subprocess.DEVNULL, check=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if round_ == 0:
            continue  # warm-up: page cache, dynamic loader
        wall[label].append(elapsed * 1000)
        cpu[label].append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)

first = commands[0][0]
base_wall, base_cpu = statistics.median(wall[first]), statistics.median(cpu[first])
for label, _ in commands:
    w, c = sorted(wall[label]), sorted(cpu[label])
    p90 = w[max(0, int(len(w) * 0.9) - 1)]
    print(f"{label:<32} wall p50 {statistics.median(w):6.1f} ms [min {w[0]:5.1f}, p90 {p90:5.1f}]"
          f"  cpu p50 {statistics.median(c):6.1f} ms  ratio to {first}: wall {statistics.median(w) / base_wall:.2f}x,"
          f" cpu {statistics.median(c) / base_cpu:.2f}x")
