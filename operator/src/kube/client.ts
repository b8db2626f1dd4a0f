import { KubeConfig, PatchStrategy } from '@kubernetes/client-node';
import { ApiError, isNotFound } from './errors.js';
import type { KubeList, KubeObject, WatchEvent } from './objects.js';
import {
  apiVersionOf,
  BuiltinResources,
  objectPath,
  type ResourceType,
  resourcePath,
  typeKey,
} from './resources.js';
import { formatLabelSelector, type LabelSelector } from './selectors.js';
import { HttpsTransport, type KubeTransport, type Query } from './transport.js';

/** The field manager of every write the operator makes. */
export const FIELD_MANAGER = 'bolide-operator';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string | LabelSelector;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string | LabelSelector;
  fieldSelector?: string;
  resourceVersion?: string;
  /** Asks the server to end the watch after this long (it then has to be re-opened). */
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  /** Abort to end the watch. */
  signal: AbortSignal;
}

/** What an informer needs: the seam a fake can implement. */
export interface ListWatcher {
  list<T extends KubeObject>(type: ResourceType, opts?: ListOptions): Promise<KubeList<T>>;
  /** Resolves when the server ends the stream or `signal` aborts; rejects on errors (410 → GoneError). */
  watch<T extends KubeObject>(
    type: ResourceType,
    opts: WatchOptions,
    onEvent: (e: WatchEvent<T>) => void,
  ): Promise<void>;
}

export interface ApplyOptions {
  /** Take over fields other managers own (default true: the operator's desired state wins). */
  force?: boolean;
  fieldManager?: string;
  dryRun?: boolean;
}

/** Server-side apply of a whole desired object. */
export interface Applier {
  apply<T extends KubeObject>(desired: T, opts?: ApplyOptions): Promise<T>;
}

/** Writes the status subresource. */
export interface StatusWriter {
  /**
   * JSON merge patch of `{ status }` on /status. With `resourceVersion`, the write fails with
   * ConflictError if the object changed since it was read.
   */
  patchStatus<T extends KubeObject>(
    obj: KubeObject,
    status: unknown,
    opts?: { resourceVersion?: string },
  ): Promise<T>;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  /** Delete only if the object still has this uid / resourceVersion (else ConflictError). */
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** `/scale` subresource (autoscaling/v1 Scale). */
export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

export type PatchType = 'merge' | 'json' | 'strategic';

const PATCH_CONTENT_TYPE: Readonly<Record<PatchType, string>> = Object.freeze({
  merge: PatchStrategy.MergePatch,
  json: PatchStrategy.JsonPatch,
  strategic: PatchStrategy.StrategicMergePatch,
});

interface DiscoveryList {
  resources: Array<{ name: string; kind: string; namespaced: boolean }>;
}

export interface KubeClientOptions {
  fieldManager?: string;
  /** Kinds known up front (CRDs), so no discovery request is needed for them. */
  resources?: ResourceType[];
}

/**
 * Typed access to the Kubernetes REST API in plain JSON: CRUD, server-side apply, status and scale
 * subresources, finalizers with optimistic concurrency, and the list/watch an informer needs.
 */
export class KubeClient implements Applier, StatusWriter, ListWatcher {
  readonly fieldManager: string;
  private readonly types = new Map<string, ResourceType>();
  private readonly discovered = new Map<string, DiscoveryList>();

  constructor(
    readonly transport: KubeTransport,
    opts: KubeClientOptions = {},
  ) {
    this.fieldManager = opts.fieldManager ?? FIELD_MANAGER;
    for (const t of Object.values(BuiltinResources)) this.register(t);
    for (const t of opts.resources ?? []) this.register(t);
  }

  /** Loads a kubeconfig file (or the in-cluster service account when `path` is 'in-cluster'). */
  static fromKubeconfig(path: string | 'in-cluster', opts?: KubeClientOptions): KubeClient {
    const kc = new KubeConfig();
    if (path === 'in-cluster') kc.loadFromCluster();
    else kc.loadFromFile(path);
    return new KubeClient(new HttpsTransport(kc, opts?.fieldManager ?? FIELD_MANAGER), opts);
  }

  /** KUBECONFIG, ~/.kube/config or the in-cluster service account, as kubectl would choose. */
  static fromDefault(opts?: KubeClientOptions): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubeClient(new HttpsTransport(kc, opts?.fieldManager ?? FIELD_MANAGER), opts);
  }

  close(): void {
    this.transport.close();
  }

  register(type: ResourceType): void {
    this.types.set(typeKey(apiVersionOf(type), type.kind), type);
  }

  /** The REST resource of apiVersion+kind: registered kinds first, then API discovery (cached). */
  async resolve(apiVersion: string, kind: string): Promise<ResourceType> {
    const known = this.types.get(typeKey(apiVersion, kind));
    if (known) return known;
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const find = (list: DiscoveryList | undefined) =>
      list?.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    let entry = find(this.discovered.get(apiVersion));
    if (!entry) {
      // Refetch: a CRD may have been installed since the last look.
      const list = await this.transport.request<DiscoveryList>({ method: 'GET', path });
      this.discovered.set(apiVersion, list);
      entry = find(list);
    }
    if (!entry) throw new Error(`the API server does not serve kind ${kind} in ${apiVersion}`);
    const type: ResourceType = { group, version, kind, plural: entry.name, namespaced: entry.namespaced };
    this.register(type);
    return type;
  }

  async typeOf(obj: KubeObject): Promise<ResourceType> {
    if (!obj.apiVersion || !obj.kind) {
      throw new Error(`object ${obj.metadata?.name ?? '?'} lacks apiVersion or kind`);
    }
    return this.resolve(obj.apiVersion, obj.kind);
  }

  /** The object, or undefined if it does not exist. */
  async get<T extends KubeObject>(
    type: ResourceType,
    name: string,
    namespace?: string,
  ): Promise<T | undefined> {
    try {
      return await this.transport.request<T>({
        method: 'GET',
        path: resourcePath(type, { namespace: type.namespaced ? namespace : undefined, name }),
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(type: ResourceType, opts: ListOptions = {}): Promise<KubeList<T>> {
    const query: Query = {
      labelSelector: opts.labelSelector === undefined ? undefined : formatLabelSelector(opts.labelSelector),
      fieldSelector: opts.fieldSelector,
      limit: opts.limit,
      continue: opts.continue,
      resourceVersion: opts.resourceVersion,
    };
    return this.transport.request<KubeList<T>>({
      method: 'GET',
      path: resourcePath(type, { namespace: type.namespaced ? opts.namespace : undefined }),
      query,
    });
  }

  /** Every page of a list, and the resourceVersion to watch from. */
  async listAll<T extends KubeObject>(
    type: ResourceType,
    opts: Omit<ListOptions, 'continue'> = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.list<T>(type, { ...opts, limit: opts.limit ?? 500, continue: cont });
      items.push(...page.items);
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const type = await this.typeOf(obj);
    return this.transport.request<T>({
      method: 'POST',
      path: resourcePath(type, { namespace: type.namespaced ? obj.metadata?.namespace : undefined }),
      query: { fieldManager: this.fieldManager },
      body: obj,
    });
  }

  /** PUT of the whole object; its metadata.resourceVersion makes it fail with ConflictError if stale. */
  async replace<T extends KubeObject>(obj: T, subresource?: string): Promise<T> {
    const type = await this.typeOf(obj);
    return this.transport.request<T>({
      method: 'PUT',
      path: objectPath(type, obj, subresource),
      query: { fieldManager: this.fieldManager },
      body: obj,
    });
  }

  /** Deletes; false if it was already gone. */
  async delete(
    type: ResourceType,
    name: string,
    namespace?: string,
    opts: DeleteOptions = {},
  ): Promise<boolean> {
    try {
      await this.transport.request({
        method: 'DELETE',
        path: resourcePath(type, { namespace: type.namespaced ? namespace : undefined, name }),
        body: { apiVersion: 'v1', kind: 'DeleteOptions', ...opts },
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Deletes the object named by `obj` (apiVersion, kind, metadata); already gone is fine. */
  async deleteObject(obj: KubeObject, opts: DeleteOptions = {}): Promise<void> {
    const type = await this.typeOf(obj);
    const name = obj.metadata?.name;
    if (!name) throw new Error(`cannot delete ${obj.kind} without metadata.name`);
    await this.delete(type, name, obj.metadata?.namespace, opts);
  }

  /**
   * Server-side apply (`application/apply-patch+yaml`, JSON being YAML) with this client's field
   * manager, forced by default. Fields this manager applied before and now omits are removed; fields
   * other managers own are left alone.
   */
  async apply<T extends KubeObject>(desired: T, opts: ApplyOptions = {}): Promise<T> {
    return this.applyTo(desired, undefined, opts);
  }

  /** Server-side apply on /status: `desired` carries apiVersion, kind, metadata.name/namespace and status. */
  async applyStatus<T extends KubeObject>(desired: T, opts: ApplyOptions = {}): Promise<T> {
    return this.applyTo(desired, 'status', opts);
  }

  private async applyTo<T extends KubeObject>(
    desired: T,
    subresource: string | undefined,
    opts: ApplyOptions,
  ) {
    const type = await this.typeOf(desired);
    const body = { ...desired, metadata: { ...desired.metadata } };
    // The server rejects apply bodies that carry managedFields.
    delete body.metadata.managedFields;
    return this.transport.request<T>({
      method: 'PATCH',
      path: objectPath(type, body, subresource),
      query: {
        fieldManager: opts.fieldManager ?? this.fieldManager,
        force: opts.force ?? true,
        dryRun: opts.dryRun ? 'All' : undefined,
      },
      contentType: PatchStrategy.ServerSideApply,
      body,
    });
  }

  /** A merge, JSON or strategic-merge patch, optionally on a subresource. */
  async patch<T extends KubeObject>(
    obj: KubeObject,
    patch: unknown,
    opts: { type?: PatchType; subresource?: string } = {},
  ): Promise<T> {
    const type = await this.typeOf(obj);
    return this.transport.request<T>({
      method: 'PATCH',
      path: objectPath(type, obj, opts.subresource),
      query: { fieldManager: this.fieldManager },
      contentType: PATCH_CONTENT_TYPE[opts.type ?? 'merge'],
      body: patch,
    });
  }

  async patchStatus<T extends KubeObject>(
    obj: KubeObject,
    status: unknown,
    opts: { resourceVersion?: string } = {},
  ): Promise<T> {
    const body: Record<string, unknown> = { status };
    if (opts.resourceVersion) body.metadata = { resourceVersion: opts.resourceVersion };
    return this.patch<T>(obj, body, { type: 'merge', subresource: 'status' });
  }

  /**
   * Adds `finalizer` if missing. The patch carries the object's resourceVersion, so a concurrent change
   * fails with ConflictError instead of overwriting someone else's finalizer list. Returns whether it
   * changed and the object as stored. An object already being deleted is left alone (the API server
   * forbids new finalizers then).
   */
  async addFinalizer<T extends KubeObject>(
    obj: T,
    finalizer: string,
  ): Promise<{ changed: boolean; object: T }> {
    const current = obj.metadata?.finalizers ?? [];
    if (current.includes(finalizer) || obj.metadata?.deletionTimestamp)
      return { changed: false, object: obj };
    return { changed: true, object: await this.writeFinalizers(obj, [...current, finalizer]) };
  }

  /** Removes `finalizer` if present, with the same optimistic concurrency as `addFinalizer`. */
  async removeFinalizer<T extends KubeObject>(
    obj: T,
    finalizer: string,
  ): Promise<{ changed: boolean; object: T }> {
    const current = obj.metadata?.finalizers ?? [];
    if (!current.includes(finalizer)) return { changed: false, object: obj };
    try {
      return {
        changed: true,
        object: await this.writeFinalizers(
          obj,
          current.filter((f) => f !== finalizer),
        ),
      };
    } catch (err) {
      // Gone already: the last finalizer was ours and the object was deleted.
      if (isNotFound(err)) return { changed: true, object: obj };
      throw err;
    }
  }

  private async writeFinalizers<T extends KubeObject>(obj: T, finalizers: string[]): Promise<T> {
    const resourceVersion = obj.metadata?.resourceVersion;
    if (!resourceVersion)
      throw new Error('finalizer changes need the object as read (metadata.resourceVersion)');
    // A merge patch replaces the whole list; the resourceVersion precondition makes that safe.
    return this.patch<T>(obj, { metadata: { resourceVersion, finalizers } }, { type: 'merge' });
  }

  async getScale(type: ResourceType, name: string, namespace?: string): Promise<Scale> {
    return this.transport.request<Scale>({
      method: 'GET',
      path: resourcePath(type, {
        namespace: type.namespaced ? namespace : undefined,
        name,
        subresource: 'scale',
      }),
    });
  }

  /** Sets spec.replicas through /scale (works for Deployments, StatefulSets and CRs with a scale subresource). */
  async setScale(
    type: ResourceType,
    name: string,
    namespace: string | undefined,
    replicas: number,
    opts: { resourceVersion?: string } = {},
  ): Promise<Scale> {
    if (!Number.isInteger(replicas) || replicas < 0)
      throw new Error(`replicas must be a whole number >= 0, got ${replicas}`);
    const body: Record<string, unknown> = { spec: { replicas } };
    if (opts.resourceVersion) body.metadata = { resourceVersion: opts.resourceVersion };
    return this.transport.request<Scale>({
      method: 'PATCH',
      path: resourcePath(type, {
        namespace: type.namespaced ? namespace : undefined,
        name,
        subresource: 'scale',
      }),
      query: { fieldManager: this.fieldManager },
      contentType: PatchStrategy.MergePatch,
      body,
    });
  }

  async watch<T extends KubeObject>(
    type: ResourceType,
    opts: WatchOptions,
    onEvent: (e: WatchEvent<T>) => void,
  ): Promise<void> {
    const timeoutSeconds = opts.timeoutSeconds ?? 300;
    await this.transport.stream(
      {
        path: resourcePath(type, { namespace: type.namespaced ? opts.namespace : undefined }),
        query: {
          watch: true,
          resourceVersion: opts.resourceVersion,
          allowWatchBookmarks: opts.allowWatchBookmarks ?? true,
          timeoutSeconds,
          labelSelector:
            opts.labelSelector === undefined ? undefined : formatLabelSelector(opts.labelSelector),
          fieldSelector: opts.fieldSelector,
        },
        signal: opts.signal,
        // The server sends bookmarks and ends the watch itself; silence well past that means a dead link.
        idleTimeoutMs: (timeoutSeconds + 60) * 1000,
      },
      (line) => {
        const event = JSON.parse(line) as WatchEvent<T>;
        if (!event || typeof event.type !== 'string' || typeof event.object !== 'object') {
          throw new ApiError(500, { message: `malformed watch event: ${line.slice(0, 200)}` }, 'watch');
        }
        onEvent(event);
      },
    );
  }
}
