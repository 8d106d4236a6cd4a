import { type Logger, pino } from "pino";
import type { StateStore } from "../../engine/ports/state-store.js";
import { AnnotationHolderChannel } from "./annotation-holder-channel.js";
import { AnnotationLease } from "./annotation-lease.js";
import { AnnotationStorage } from "./annotation-storage.js";
import { HistoryConfigMap } from "./history-config-map.js";
import type { KubeClients } from "./kube-clients.js";
import { ServiceAnnotations } from "./service-annotations.js";

export interface AnnotationStateStoreOptions {
  readonly clients: KubeClients;
  readonly service: string;
  /** Deploys kept in the history ConfigMap, newest last. */
  readonly historyLimit: number;
  /** A lock not renewed for this long is abandoned; the holder renews it every third of it. */
  readonly leaseMs: number;
  readonly logger?: Logger;
}

/** The state store on Kubernetes, in its three parts. */
export interface AnnotationStateStore extends StateStore {
  readonly storage: AnnotationStorage;
  readonly lease: AnnotationLease;
  readonly channel: AnnotationHolderChannel;
}

/**
 * The engine's state where every CI runner sees it: as JSON in the `cutover.dev/state` annotation of the
 * active Service (small: the colours and the deploy in progress), and the history in a ConfigMap
 * `<service>-cutover-history` (an annotation holds at most 256 KiB for all of an object's annotations, a
 * ConfigMap 1 MiB; the history is trimmed to `historyLimit`). Every write carries the resourceVersion it
 * read; on 409 it reads again and re-decides. The deploy in progress is the lock: `claim` refuses while
 * another unfinished one is recorded, and records a random token beside it (`cutover.dev/lock`); no write
 * from a process without that token replaces or clears an unfinished deploy. The holder renews the lock
 * while its deploy runs; a deploy whose lock is older than the lease was abandoned (its runner was killed)
 * and `takeOver` lets `cutover abort` close it. Another run asks the live holder to promote or abort through
 * `cutover.dev/request`, which the holder takes with its next write.
 */
export function annotationStateStore(options: AnnotationStateStoreOptions): AnnotationStateStore {
  const { clients, service, leaseMs } = options;
  const logger = (options.logger ?? pino({ enabled: false })).child({ component: "annotation-state-store" });
  const annotations = new ServiceAnnotations(clients, service);
  const history = new HistoryConfigMap(clients, service, options.historyLimit);
  const channel = new AnnotationHolderChannel({ annotations, history, leaseMs, logger });
  const lease = new AnnotationLease({ annotations, channel, leaseMs, logger });
  const storage = new AnnotationStorage({ clients, service, annotations, history, lease, channel, logger });
  return { storage, lease, channel };
}
