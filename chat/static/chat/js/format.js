// Formatting of times and sizes in the reader's locale.

const pageLocale = () => document.documentElement.lang || undefined;

const sameDay = (a, b) =>
  a.getFullYear() === b.getFullYear() &&
  a.getMonth() === b.getMonth() &&
  a.getDate() === b.getDate();

export function parseDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatFullDateTime(date) {
  return date.toLocaleString(pageLocale(), { dateStyle: "full", timeStyle: "medium" });
}

// A message's time: "14:03" today, "Yesterday 14:03", otherwise with the date.
export function formatMessageTime(date, strings = {}, now = new Date()) {
  const time = date.toLocaleTimeString(pageLocale(), { hour: "numeric", minute: "2-digit" });
  if (sameDay(date, now)) {
    return time;
  }
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (strings.yesterday && sameDay(date, yesterday)) {
    return `${strings.yesterday} ${time}`;
  }
  const options = { day: "numeric", month: "short" };
  if (date.getFullYear() !== now.getFullYear()) {
    options.year = "numeric";
  }
  return `${date.toLocaleDateString(pageLocale(), options)} ${time}`;
}

// "5 minutes ago" for recent times, the local date and time otherwise.
export function formatRelative(date, now = new Date()) {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (typeof Intl !== "undefined" && Intl.RelativeTimeFormat && abs < 7 * 86400) {
    const format = new Intl.RelativeTimeFormat(pageLocale(), { numeric: "auto" });
    if (abs < 60) return format.format(0, "second");
    if (abs < 3600) return format.format(Math.round(seconds / 60), "minute");
    if (abs < 86400) return format.format(Math.round(seconds / 3600), "hour");
    return format.format(Math.round(seconds / 86400), "day");
  }
  return date.toLocaleString(pageLocale(), { dateStyle: "medium", timeStyle: "short" });
}

// Decimal units (1 kB = 1000 bytes), named as Intl names them in the
// page's language: "13 bytes", "13 байт", "1.5 MB", "1,5 МБ".
const SIZE_UNITS = ["byte", "kilobyte", "megabyte", "gigabyte"];

export function formatSize(bytes) {
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1000 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  try {
    return new Intl.NumberFormat(pageLocale(), {
      style: "unit",
      unit: SIZE_UNITS[unit],
      // Whole bytes read best in words, with the language's plural.
      unitDisplay: unit === 0 ? "long" : "short",
      maximumFractionDigits: digits,
    }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${["B", "kB", "MB", "GB"][unit]}`;
  }
}

// Fill "%(name)s" placeholders of a translated string.
export function interpolate(template, values) {
  return String(template).replace(/%\((\w+)\)s/g, (match, key) =>
    key in values ? String(values[key]) : match,
  );
}

// A count in words: ``forms`` holds a translated string as the page's
// language words it for 1, 2 and 5 ({one, few, many}, "%(count)s" in each),
// which covers the plural categories of English and Russian; the one the
// language uses for ``count`` is filled with it and ``values``.
export function plural(forms, count, values = {}) {
  let category = "many";
  try {
    category = new Intl.PluralRules(pageLocale()).select(count);
  } catch {
    // An unknown locale: the general form.
  }
  const form = (category === "one" && forms.one) || (category === "few" && forms.few) || forms.many;
  return interpolate(form, { ...values, count });
}
