/**
 * How far apart a destination on this machine may see two requests that left the worker
 * exactly one period apart. Pacing counts an attempt when its request is written to the socket
 * (see dispatcher.ts); the destination counts it when its own event loop gets to it. On 2 cores
 * shared with a broker and other test runs, that took up to 40 ms in the first period of a run
 * (measured: arrival − start per request), 1 ms typically. The limiter's margin (0.5% of the
 * period) absorbs the typical case only; absorbing the worst would cost 4% of the rate. So at
 * the destination the tests count windows this much shorter than the period, and count exact
 * windows on the start times the worker logs.
 */
export const ARRIVAL_JITTER_MS = 100;
