import { LogLevel, type Logger } from '@slack/bolt';

/** Text of what Bolt logs; tokens never reach here (Bolt redacts them), errors keep their message only. */
function lineOf(parts: unknown[]): string {
  return parts
    .map((part) => (part instanceof Error ? part.message : typeof part === 'string' ? part : JSON.stringify(part)))
    .join(' ');
}

/** Bolt's logger on the service's `log(line)`: info and above, prefixed with the level; debug dropped. */
export function boltLogger(log: (line: string) => void): Logger {
  let level = LogLevel.INFO;
  let name = 'slack';
  const at =
    (wanted: LogLevel, label: string) =>
    (...parts: unknown[]) => {
      const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
      if (order.indexOf(wanted) >= order.indexOf(level)) log(`${name} ${label}: ${lineOf(parts)}`);
    };
  return {
    debug: at(LogLevel.DEBUG, 'debug'),
    info: at(LogLevel.INFO, 'info'),
    warn: at(LogLevel.WARN, 'warn'),
    error: at(LogLevel.ERROR, 'error'),
    setLevel: (next) => {
      level = next;
    },
    getLevel: () => level,
    setName: (next) => {
      name = next;
    },
  };
}
