/**
 * Milliseconds on the monotonic clock (performance.now()), for every wait
 * and interval measured between two moments: the wall clock (Date.now())
 * goes backwards when it is set (NTP stepping it, a VM resumed, an
 * operator), and a wait computed from it then lasted as long as the step
 * (an hour's step back held a region's live updates an hour). The wall clock
 * is for what is shown or stored (timestamps, token expiry).
 */
export const elapsedMs = (): number => performance.now();
