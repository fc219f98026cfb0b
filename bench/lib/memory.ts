/** Samples this process's resident set size every 100 ms and remembers the peak. */
export interface RssSampler {
  /** Peak sampled RSS so far, MB. */
  peakMb(): number;
  stop(): void;
}

/**
 * Starts sampling `process.memoryUsage().rss`.
 * @param intervalMs - sampling period
 * @returns the sampler
 */
export function startRssSampler(intervalMs = 100): RssSampler {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    if (rss > peak) {
      peak = rss;
    }
  }, intervalMs);
  timer.unref();
  return {
    peakMb: () => peak / (1024 * 1024),
    stop: () => clearInterval(timer),
  };
}

/** The operating system's high-water mark of this process's RSS, MB (catches peaks between samples). */
export function osMaxRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}
