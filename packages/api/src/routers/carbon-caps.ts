/** carbon.* procedures (filled in by the green-budgets work). */
export const carbonCapProcedures = {};
