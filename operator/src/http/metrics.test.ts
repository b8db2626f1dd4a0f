import { describe, expect, it } from 'vitest';
import { OperatorMetrics } from './metrics.js';

describe('OperatorMetrics', () => {
  it('counts reconciles by controller and result, errors per kind, and observes durations', async () => {
    const m = new OperatorMetrics({ processMetrics: false });
    m.reconciled('Topic', 'success', 0.02);
    m.reconciled('Topic', 'error', 0.3);
    m.reconciled('Topic', 'terminal_error', 0.001);
    m.reconciled('BrokerCluster', 'conflict', 0.004);
    const text = await m.render();
    expect(text).toContain('bolide_operator_reconciles_total{controller="Topic",result="success"} 1');
    expect(text).toContain(
      'bolide_operator_reconciles_total{controller="BrokerCluster",result="conflict"} 1',
    );
    expect(text).toContain('bolide_operator_reconcile_errors_total{controller="Topic"} 2');
    expect(text).not.toContain('bolide_operator_reconcile_errors_total{controller="BrokerCluster"}');
    expect(text).toContain('bolide_operator_reconcile_duration_seconds_count{controller="Topic"} 3');
    expect(text).toContain(
      'bolide_operator_reconcile_duration_seconds_bucket{le="0.025",controller="Topic"} 2',
    );
  });

  it('reads queue depth at scrape time and reports leadership', async () => {
    const m = new OperatorMetrics({ processMetrics: false });
    let depth = 3;
    m.registerQueue('topics', () => depth);
    expect(await m.render()).toContain('bolide_operator_workqueue_depth{name="topics"} 3');
    depth = 0;
    expect(await m.render()).toContain('bolide_operator_workqueue_depth{name="topics"} 0');
    expect(await m.render()).toContain('bolide_operator_leader 0');
    m.setLeader(true);
    expect(await m.render()).toContain('bolide_operator_leader 1');
  });

  it('keeps registries apart, so two instances in one process do not collide', async () => {
    const a = new OperatorMetrics();
    const b = new OperatorMetrics();
    a.reconciled('Topic', 'success', 0.01);
    expect(await a.render()).toContain(
      'bolide_operator_reconciles_total{controller="Topic",result="success"} 1',
    );
    expect(await b.render()).not.toContain('controller="Topic"');
    expect(await b.render()).toContain('process_cpu_user_seconds_total');
  });
});
