// Alpine package version ordering, following apk-tools' rules (Gentoo-style versions):
// {digits}{.digits}...{letter}{_suffix{digits}}...{-r#}. Pre-release suffixes (alpha, beta, pre, rc) sort
// before the bare version, post-release ones (cvs, svn, git, hg, p) after it.

const enum Tok {
  Invalid = -1,
  DigitOrZero = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  RevisionNo = 5,
  End = 6,
}

const PRE_SUFFIXES = ['alpha', 'beta', 'pre', 'rc'];
const POST_SUFFIXES = ['cvs', 'svn', 'git', 'hg', 'p'];

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isLower = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';

class Cursor {
  type: Tok = Tok.Digit;
  constructor(
    private readonly s: string,
    public pos = 0,
  ) {}

  get left(): number {
    return this.s.length - this.pos;
  }

  private nextType(): void {
    const s = this.s;
    let n: Tok = Tok.Invalid;
    const c = s[this.pos];
    if (this.left <= 0 || c === '\0') {
      n = Tok.End;
    } else if ((this.type === Tok.Digit || this.type === Tok.DigitOrZero) && isLower(c)) {
      n = Tok.Letter;
    } else if (this.type === Tok.Letter && isDigit(c)) {
      n = Tok.Digit;
    } else if (this.type === Tok.Suffix && isDigit(c)) {
      n = Tok.SuffixNo;
    } else {
      if (c === '.') n = Tok.DigitOrZero;
      else if (c === '_') n = Tok.Suffix;
      else if (c === '-') {
        if (this.left > 1 && s[this.pos + 1] === 'r') {
          n = Tok.RevisionNo;
          this.pos++;
        }
      }
      this.pos++;
    }
    if (n < this.type) {
      const allowed =
        (n === Tok.DigitOrZero && this.type === Tok.Digit) ||
        (n === Tok.Suffix && this.type === Tok.SuffixNo) ||
        (n === Tok.Digit && this.type === Tok.Letter);
      if (!allowed) n = Tok.Invalid;
    }
    this.type = n;
  }

  private number(): [number, number] {
    let v = 0;
    let i = 0;
    while (i < this.left && isDigit(this.s[this.pos + i])) {
      v = v * 10 + (this.s.charCodeAt(this.pos + i) - 48);
      i++;
    }
    return [v, i];
  }

  /** Reads the value of the current token and advances to the next one. */
  take(): number {
    const s = this.s;
    if (this.left <= 0) {
      this.type = Tok.End;
      return 0;
    }
    let v = 0;
    let i = 0;
    let forced: Tok = Tok.Invalid;
    switch (this.type) {
      case Tok.DigitOrZero:
        if (s[this.pos] === '0') {
          // Leading zeros: "1.05" sorts before "1.5"; more zeros sort lower.
          while (i < this.left && s[this.pos + i] === '0') i++;
          forced = Tok.Digit;
          v = -i;
          break;
        }
        [v, i] = this.number();
        break;
      case Tok.Digit:
      case Tok.SuffixNo:
      case Tok.RevisionNo:
        [v, i] = this.number();
        break;
      case Tok.Letter:
        v = s.charCodeAt(this.pos);
        i = 1;
        break;
      case Tok.Suffix: {
        const rest = s.slice(this.pos);
        const pre = PRE_SUFFIXES.findIndex((p) => rest.startsWith(p));
        if (pre >= 0) {
          v = pre - PRE_SUFFIXES.length;
          i = PRE_SUFFIXES[pre]!.length;
          break;
        }
        const post = POST_SUFFIXES.findIndex((p) => rest.startsWith(p));
        if (post >= 0) {
          v = post;
          i = POST_SUFFIXES[post]!.length;
          break;
        }
        this.type = Tok.Invalid;
        return -1;
      }
      default:
        this.type = Tok.Invalid;
        return -1;
    }
    this.pos += i;
    if (this.left === 0) this.type = Tok.End;
    else if (forced !== Tok.Invalid) this.type = forced;
    else this.nextType();
    return v;
  }
}

function suffixValueAt(s: string, pos: number): number {
  const c = new Cursor(s, pos);
  c.type = Tok.Suffix;
  return c.take();
}

/** True when `v` is a well-formed apk version string. */
export function isValidVersion(v: string): boolean {
  const c = new Cursor(v);
  while (c.type !== Tok.End && c.type !== Tok.Invalid) c.take();
  return c.type === Tok.End;
}

/**
 * Compares two versions: -1, 0 or 1. With `fuzzy`, a version that is a prefix of the other compares equal
 * (the `~` operator: `1.2.3` matches `~1.2`).
 */
export function compareVersions(a: string, b: string, fuzzy = false): -1 | 0 | 1 {
  const ca = new Cursor(a);
  const cb = new Cursor(b);
  let av = 0;
  let bv = 0;
  while (ca.type === cb.type && ca.type !== Tok.End && ca.type !== Tok.Invalid && av === bv) {
    av = ca.take();
    bv = cb.take();
  }
  if (av < bv) return -1;
  if (av > bv) return 1;
  if (ca.type === cb.type || fuzzy) return 0;
  // Equal so far: the longer one is newer unless what follows is a pre-release suffix.
  if (ca.type === Tok.Suffix && suffixValueAt(a, ca.pos) < 0) return -1;
  if (cb.type === Tok.Suffix && suffixValueAt(b, cb.pos) < 0) return 1;
  if (ca.type > cb.type) return -1;
  if (cb.type > ca.type) return 1;
  return 0;
}
