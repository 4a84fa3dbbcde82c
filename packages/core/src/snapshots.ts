// Agent snapshots (`fleet snapshot`, `snapshots`, `revert`): the port the libvirt adapter
// implements and the label rules. Pure.

export interface SnapshotInfo {
  label: string;
  /** ISO time the snapshot was taken. */
  createdAt: string;
  /** The domain's state when it was taken: "running" snapshots hold memory too, a revert resumes there. */
  state: string;
  description: string | null;
}

/** Internal (qcow2) snapshots of one libvirt host's domains. */
export interface SnapshotStore {
  list(domain: string): Promise<SnapshotInfo[]>;
  create(domain: string, label: string, description: string): Promise<void>;
  revert(domain: string, label: string): Promise<void>;
  delete(domain: string, label: string): Promise<void>;
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why `label` is not a usable snapshot label, or undefined when it is. */
export function snapshotLabelProblem(label: string): string | undefined {
  return LABEL.test(label)
    ? undefined
    : `snapshot label '${label}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`;
}

/** The label `fleet snapshot NAME` gives when none is named: the UTC time, e.g. 20261129-081500. */
export function defaultSnapshotLabel(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
