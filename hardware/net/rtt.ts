/**
 * Round-trip-time estimator and probe timeout, after TCP's RTO (RFC 6298):
 *   srtt ← 7/8·srtt + 1/8·R,  rttvar ← 3/4·rttvar + 1/4·|srtt − R|,
 *   timeout = clamp(srtt + max(margin, 4·rttvar), floor, cap).
 *
 * Why not a fixed timeout: a fixed 200 ms timeout declared a healthy 300 ms-RTT link
 * dead (measured in the netns test-bed). Why a floor: at 10 probes/s rttvar decays to ~0 on a quiet link,
 * and a single jitter spike would then count as a loss; for the same reason the timeout
 * keeps at least `margin` above srtt on a slow link (Linux TCP does the same with its
 * 200 ms minimum RTO term: a steady 300 ms link otherwise gets a 307 ms timeout and
 * every few ms of jitter becomes a loss — measured in the test-bed). Why a cap: a link whose RTT
 * keeps growing must eventually be called lost, not waited on forever.
 * No exponential back-off (unlike TCP): each probe is new, and backing off would
 * stretch detection of a dead link from ~1 s to many seconds.
 * Late answers (after the timeout) are still fed in as samples: they are real RTTs
 * (no retransmission ambiguity), and that is how the timeout learns a link got slower.
 */
export interface RttParams {
  /** Lower bound of the timeout (ms). */
  floorMs: number;
  /** Upper bound of the timeout, and how long an attempt waits for a late answer (ms). */
  capMs: number;
  /** Timeout before the first sample (RFC 6298 says 1 s). */
  initialMs: number;
  /** Minimum headroom above srtt (ms). Default 150. */
  marginMs?: number;
}

export class RttEstimator {
  private srtt: number | undefined;
  private rttvar = 0;

  constructor(readonly params: RttParams) {
    if (!(params.floorMs > 0 && params.capMs >= params.floorMs)) {
      throw new Error(`RTT timeout bounds are inconsistent: floor ${params.floorMs} ms, cap ${params.capMs} ms (need 0 < floor ≤ cap)`);
    }
  }

  sample(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    if (this.srtt === undefined) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
      return;
    }
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
    this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
  }

  /** Smoothed RTT (ms), undefined before the first sample. */
  get srttMs(): number | undefined {
    return this.srtt;
  }

  get rttvarMs(): number {
    return this.rttvar;
  }

  /** How long to wait before calling a probe lost. */
  timeoutMs(): number {
    const { floorMs, capMs, initialMs } = this.params;
    const margin = this.params.marginMs ?? 150;
    const raw = this.srtt === undefined ? initialMs : this.srtt + Math.max(margin, 4 * this.rttvar);
    return Math.min(capMs, Math.max(floorMs, raw));
  }
}
