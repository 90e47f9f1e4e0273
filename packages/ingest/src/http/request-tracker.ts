/** Counts requests being handled, so a graceful stop can wait until each has its answer. */
export interface RequestTracker {
  begin(): void;
  end(): void;
  readonly active: number;
  /** Resolves once no request is being handled. */
  idle(): Promise<void>;
}

export function createRequestTracker(): RequestTracker {
  let active = 0;
  let waiters: (() => void)[] = [];
  return {
    begin() {
      active++;
    },
    end() {
      active--;
      if (active === 0 && waiters.length > 0) {
        const wake = waiters;
        waiters = [];
        for (const resolve of wake) resolve();
      }
    },
    get active() {
      return active;
    },
    idle() {
      if (active === 0) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
