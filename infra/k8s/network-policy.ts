import type { K8sObject } from './manifests';

/**
 * A NetworkPolicy evaluator, as the Kubernetes API defines the semantics (what Calico, Cilium
 * and kindnetd enforce): it answers whether one pod may open a connection to another on a port,
 * so that tests can check the whole who-talks-to-whom matrix of the rendered policies instead
 * of their text.
 *
 * - A pod is isolated for ingress (egress) when some policy of its namespace selects it and
 *   lists that type; an isolated pod admits only what some selecting policy allows.
 * - A connection needs the sender's egress and the receiver's ingress to allow it.
 * - A peer with only `podSelector` means pods of the policy's own namespace; with only
 *   `namespaceSelector`, every pod of the matching namespaces; with both, the matching pods of
 *   the matching namespaces. An absent or empty `from`/`to` admits everyone; absent `ports`
 *   admits every port. `ipBlock` peers are not pods: they never match one here.
 * - A named port is resolved against the receiving pod's container ports.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

export interface Pod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** Named container ports (for policies that name ports). */
  ports?: Record<string, number>;
}

export interface Namespace {
  name: string;
  labels: Record<string, string>;
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}
interface PolicyPort {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port?: number | string;
  endPort?: number;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}
export interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: Rule[];
    egress?: Rule[];
  };
}

export function matches(selector: LabelSelector | undefined, labels: Record<string, string>) {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** A policy's types: as written, else Ingress, plus Egress when it has egress rules. */
function typesOf(p: NetworkPolicy): ('Ingress' | 'Egress')[] {
  if (p.spec.policyTypes) return p.spec.policyTypes;
  return p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

export class PolicyModel {
  private readonly policies: NetworkPolicy[];

  constructor(
    objects: readonly K8sObject[],
    private readonly namespaces: readonly Namespace[],
    /** The namespace of policies rendered without one. */
    private readonly defaultNamespace: string,
  ) {
    this.policies = objects.filter((o): o is NetworkPolicy => o.kind === 'NetworkPolicy');
  }

  /** May `from` open a connection to `to` on `port`? */
  allows(from: Pod, to: Pod, port: number, protocol: 'TCP' | 'UDP' = 'TCP'): boolean {
    return (
      this.side('Egress', from, to, port, protocol) &&
      this.side('Ingress', to, from, port, protocol)
    );
  }

  private namespaceOf(p: NetworkPolicy): string {
    return p.metadata?.namespace ?? this.defaultNamespace;
  }

  /** `self`'s policies of one type, judged for a connection with `other` on `port` of the receiver. */
  private side(
    type: 'Ingress' | 'Egress',
    self: Pod,
    other: Pod,
    port: number,
    protocol: string,
  ): boolean {
    const selecting = this.policies.filter(
      (p) =>
        this.namespaceOf(p) === self.namespace &&
        typesOf(p).includes(type) &&
        matches(p.spec.podSelector, self.labels),
    );
    if (selecting.length === 0) return true;
    const receiver = type === 'Ingress' ? self : other;
    return selecting.some((p) =>
      (type === 'Ingress' ? (p.spec.ingress ?? []) : (p.spec.egress ?? [])).some(
        (rule) =>
          this.peersMatch(type === 'Ingress' ? rule.from : rule.to, other, this.namespaceOf(p)) &&
          portsMatch(rule.ports, receiver, port, protocol),
      ),
    );
  }

  private peersMatch(peers: Peer[] | undefined, pod: Pod, policyNamespace: string): boolean {
    if (!peers || peers.length === 0) return true;
    const ns = this.namespaces.find((n) => n.name === pod.namespace);
    return peers.some((peer) => {
      if (peer.ipBlock) return false;
      const nsOk = peer.namespaceSelector
        ? ns !== undefined && matches(peer.namespaceSelector, ns.labels)
        : pod.namespace === policyNamespace;
      return nsOk && matches(peer.podSelector, pod.labels);
    });
  }
}

function portsMatch(
  ports: PolicyPort[] | undefined,
  receiver: Pod,
  port: number,
  protocol: string,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const start = typeof p.port === 'number' ? p.port : receiver.ports?.[p.port];
    if (start === undefined) return false;
    return port >= start && port <= (p.endPort ?? start);
  });
}
