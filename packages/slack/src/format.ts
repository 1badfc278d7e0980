import { carbonPeriodBounds, carbonPeriodOf, currencyByCode, formatAmount } from '@tokenwise/core';

/** Minor units as whole tokens with the currency's code: "12.5 innovation". */
export function tokens(amount: bigint, currencyCode: string): string {
  let text: string;
  try {
    text = formatAmount(amount, currencyByCode(currencyCode));
  } catch {
    text = `${amount} minor units of`;
  }
  return `${text} ${currencyCode}`;
}

/** Grams of CO2e for people: at most 3 decimals, "0.001" rather than "0" for a tiny positive amount. */
export function grams(value: number | string): string {
  const number = typeof value === 'string' ? Number(value) : value;
  if (number > 0 && number < 0.001) return '<0.001 g';
  return `${Number(number.toFixed(3)).toLocaleString('en-US', { maximumFractionDigits: 3 })} g`;
}

/** A score 0..1 as a percentage, or an em dash when there is none yet. */
export function score(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${Math.round(value * 100)}%`;
}

/** The start of this calendar month in the org's time zone. */
export function monthStart(now: Date, timeZone: string): Date {
  return carbonPeriodBounds(carbonPeriodOf(now, timeZone, 'month'), timeZone).start;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to `max` characters with an ellipsis, so a block never passes Slack's limits. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A text bar of `width` cells for a share 0..1 (over 1 shows full, marked). */
export function gauge(share: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(share * width)));
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}${share > 1 ? ' ⚠' : ''}`;
}
