/**
 * The kubelet's restart back-off for one container (kuberuntime doBackOff with client-go's
 * flowcontrol.Backoff; https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#container-restarts):
 * the first exit restarts at once; each later one waits 10 s, doubling up to 5 min (CrashLoopBackOff
 * meanwhile); a container that ran 10 min since the last back-off starts over. Times are kubelet seconds.
 */
const INITIAL_S = 10;
const MAX_S = 300;

export class CrashBackoff {
  /** The wait the next exit gets; 0 while there is no back-off entry. */
  #current = 0;
  #updatedAt = 0;

  /** Seconds to wait before restarting a container that exited at `at` (kubelet seconds). */
  afterExit(at: number): number {
    if (this.#current === 0 || at - this.#updatedAt > 2 * MAX_S) {
      this.#current = INITIAL_S;
      this.#updatedAt = at;
      return 0;
    }
    const wait = this.#current;
    this.#current = Math.min(this.#current * 2, MAX_S);
    this.#updatedAt = at;
    return wait;
  }
}

/** A Go time.Duration as String() prints whole seconds: 10s, 1m20s, 5m0s. */
export function goDuration(totalSeconds: number): string {
  const minutes = Math.floor(totalSeconds / 60);
  const rest = totalSeconds % 60;
  return minutes > 0 ? `${minutes}m${rest}s` : `${rest}s`;
}
