import { describe, expect, it } from 'vitest';
import type { CarbonReportRow } from './carbon-report';
import { carbonReportCsv, csvNumberCell, csvTextCell } from './carbon-report-csv';

const row = (overrides: Partial<CarbonReportRow>): CarbonReportRow => ({
  key: 'k',
  label: 'k',
  requests: 2,
  promptTokens: 10,
  completionTokens: 20,
  energyKwh: 0.000000001,
  operationalGrams: 1.25,
  embodiedGrams: 0.000001,
  totalGrams: 1.250001,
  gramsPer1kTokens: 41.6667,
  gramsPerValue: null,
  ...overrides,
});

describe('carbon report CSV', () => {
  it('has a header with units, CRLF line ends, plain decimals and empty cells for no ratio', () => {
    expect(carbonReportCsv([row({})])).toBe(
      'key,label,requests,prompt_tokens,completion_tokens,energy_kwh,operational_gco2e,embodied_gco2e,total_gco2e,gco2e_per_1k_tokens,gco2e_per_value\r\n' +
        'k,k,2,10,20,0.000000001,1.25,0.000001,1.250001,41.6667,\r\n',
    );
    expect(carbonReportCsv([])).toBe(
      'key,label,requests,prompt_tokens,completion_tokens,energy_kwh,operational_gco2e,embodied_gco2e,total_gco2e,gco2e_per_1k_tokens,gco2e_per_value\r\n',
    );
  });

  it('quotes commas, quotes and line breaks as RFC 4180 says', () => {
    expect(csvTextCell('a,b')).toBe('"a,b"');
    expect(csvTextCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvTextCell('two\nlines')).toBe('"two\nlines"');
    expect(csvTextCell('cr\rhere')).toBe('"cr\rhere"');
    expect(csvTextCell('plain-team')).toBe('plain-team');
  });

  it('defuses cells a spreadsheet would run as a formula: labels are tenant data', () => {
    for (const hostile of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\r=1']) {
      const cell = csvTextCell(hostile);
      expect(cell.replace(/^"/, '').startsWith("'")).toBe(true);
    }
    expect(csvTextCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    const csv = carbonReportCsv([row({ key: '=cmd|calc', label: '@evil,team' })]);
    expect(csv.split('\r\n')[1]).toMatch(/^'=cmd\|calc,"'@evil,team",2,/);
  });

  it('never prints a number in exponent form', () => {
    expect(csvNumberCell(1e-9, 9)).toBe('0.000000001');
    expect(csvNumberCell(1e-7, 6)).toBe('0');
    expect(csvNumberCell(123456789.123456, 6)).toBe('123456789.123456');
    expect(csvNumberCell(0, 6)).toBe('0');
    expect(csvNumberCell(null, 6)).toBe('');
  });
});
