// The Train form's help: one line under each setting, and the rest of its paragraph behind a
// "more" toggle. The texts are written in one place only, docs/studio.md's section "The Train
// form's settings", which vite bundles into the page as text at build time (`?raw`); this module
// cuts that section into its settings, by the anchor of each heading (<a id="train-beta"></a>).
import { useState } from 'preact/hooks';
import studioDocs from '../../docs/studio.md?raw';

export interface SettingHelp {
  /** The heading's anchor in docs/studio.md, e.g. "train-beta". */
  id: string;
  /** The heading, e.g. "β, the KL weight (`objective.beta`)". */
  title: string;
  /** The first paragraph: what the setting does and a sensible value, in one line. */
  line: string;
  /** The paragraphs after it. */
  more: string[];
}

const SECTION = "## The Train form's settings";

/** The settings' help in the markdown of docs/studio.md, by anchor. */
export function settingsHelpOf(markdown: string): Map<string, SettingHelp> {
  const start = markdown.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`docs/studio.md has no section "${SECTION}".`);
  const rest = markdown.slice(start + SECTION.length + 2);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const help = new Map<string, SettingHelp>();
  for (const part of section.split(/^### /m).slice(1)) {
    const [heading = '', ...body] = part.split('\n');
    const m = /^<a id="([a-z0-9-]+)"><\/a>(.*)$/.exec(heading.trim());
    if (m === null) continue;
    const paragraphs = body.join('\n').split(/\n\s*\n/).map((p) => p.trim().replace(/\s*\n\s*/g, ' ')).filter((p) => p !== '');
    const [line = '', ...more] = paragraphs;
    help.set(m[1]!, { id: m[1]!, title: m[2]!.trim(), line, more });
  }
  return help;
}

const HELP = settingsHelpOf(studioDocs);

/** The help of the setting whose anchor is `id` (a missing one is a mistake of this build: it throws). */
export function settingHelp(id: string): SettingHelp {
  const found = HELP.get(id);
  if (found === undefined) throw new Error(`docs/studio.md has no setting "${id}" in "${SECTION}".`);
  return found;
}

/** Markdown's `code` spans as <code>; everything else as text. */
export function Markdown({ text }: { text: string }) {
  return <>{text.split('`').map((piece, i) => (i % 2 === 1 ? <code key={i}>{piece}</code> : piece))}</>;
}

/** A setting's line of help and its "more" toggle, which shows the rest of the docs' paragraph. */
export function Help({ id }: { id: string }) {
  const help = settingHelp(id);
  const [open, setOpen] = useState(false);
  return (
    <div class="help" data-help={id}>
      <p class="help-line"><Markdown text={help.line} />{' '}
        <button type="button" class="more-toggle" aria-expanded={open} data-testid={`more-${id}`} onClick={() => setOpen((o) => !o)}>
          {open ? 'less' : 'more'}
        </button>
      </p>
      {open ? (
        <div class="help-more" data-testid={`help-${id}`}>
          {help.more.map((p, i) => <p key={i}><Markdown text={p} /></p>)}
          <p class="help-source">docs/studio.md, “The Train form's settings”, <Markdown text={help.title} /></p>
        </div>
      ) : null}
    </div>
  );
}
