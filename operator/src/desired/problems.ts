/** Something in a spec the schema did not (or could not) refuse; becomes a Degraded condition. */
export interface SpecProblem {
  /** JSON path of the field, e.g. `spec.brokerConfig.brokerRole`. */
  field: string;
  message: string;
}

export function describeProblems(problems: readonly SpecProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}
