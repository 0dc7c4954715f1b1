// Preloaded into each whole-process arm (node --import): at exit, writes the process's
// peak RSS and CPU time to the file named by KOVENANT_BENCH_RUSAGE. Plain JavaScript, so
// that it adds no compile step to the start-up being measured.
import { writeFileSync } from 'node:fs';

const file = process.env.KOVENANT_BENCH_RUSAGE;
if (file) {
  process.on('exit', () => {
    const r = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssMb: r.maxRSS / 1024, cpuSeconds: (r.userCPUTime + r.systemCPUTime) / 1e6 }));
  });
}
