import { describe, expect, it } from 'vitest';
import { allows, diffRules, expandRules, OPERATOR_RBAC_RULES } from './rbac.js';
import { BuiltinResources } from './resources.js';

describe('RBAC table', () => {
  it('covers what the kube layer itself needs: leases, events, and the children it applies', () => {
    const L = BuiltinResources.Lease;
    for (const verb of ['get', 'create', 'update'])
      expect(allows(OPERATOR_RBAC_RULES, L.group, L.plural, verb)).toBe(true);
    for (const verb of ['create', 'patch'])
      expect(allows(OPERATOR_RBAC_RULES, '', 'events', verb)).toBe(true);
    for (const t of [
      BuiltinResources.ConfigMap,
      BuiltinResources.Service,
      BuiltinResources.StatefulSet,
      BuiltinResources.PodDisruptionBudget,
    ]) {
      // Informers need list+watch; server-side apply needs patch (and create for the first apply).
      for (const verb of ['list', 'watch', 'patch', 'create'])
        expect(allows(OPERATOR_RBAC_RULES, t.group, t.plural, verb)).toBe(true);
    }
    for (const kind of ['brokerclusters', 'topics', 'consumergroups']) {
      expect(allows(OPERATOR_RBAC_RULES, 'bolide.dev', `${kind}/status`, 'patch')).toBe(true);
      expect(allows(OPERATOR_RBAC_RULES, 'bolide.dev', kind, 'patch')).toBe(true);
      expect(allows(OPERATOR_RBAC_RULES, 'bolide.dev', kind, 'delete')).toBe(false);
    }
    expect(allows(OPERATOR_RBAC_RULES, '', 'secrets', 'get')).toBe(false);
  });

  it('has no wildcard and no duplicate grant', () => {
    const triples = OPERATOR_RBAC_RULES.flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}|${res}|${v}`))),
    );
    expect(triples.some((t) => t.includes('*'))).toBe(false);
    expect(new Set(triples).size).toBe(triples.length);
    expect(expandRules(OPERATOR_RBAC_RULES).size).toBe(triples.length);
  });

  it('compares rule lists by what they grant, not by how they are grouped', () => {
    const regrouped = [...expandRules(OPERATOR_RBAC_RULES)].map((t) => {
      const [g, r, v] = t.split('|');
      return { apiGroups: [g], resources: [r], verbs: [v] };
    });
    expect(diffRules(OPERATOR_RBAC_RULES, regrouped)).toEqual({ missing: [], extra: [] });
    const tampered = [
      ...regrouped.filter((r) => r.resources[0] !== 'leases'),
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    ];
    const diff = diffRules(OPERATOR_RBAC_RULES, tampered);
    expect(diff.missing).toEqual([
      'coordination.k8s.io|leases|create',
      'coordination.k8s.io|leases|get',
      'coordination.k8s.io|leases|update',
    ]);
    expect(diff.extra).toEqual(['*|*|*']);
  });
});
