// vaekit studio in the browser: a top bar with the seven pages (hash routes), a banner on every page
// when the studio stops answering or restarted with another token, and the page shown.
import { render } from 'preact';
import { TrainPage } from './pages/Train.js';
import { DenoisePage } from './pages/Denoise.js';
import { LatentPage } from './pages/Latent.js';
import { TextPage } from './pages/Text.js';
import { SeriesPage } from './pages/Series.js';
import { AnomaliesPage } from './pages/Anomalies.js';
import { ModelsPage } from './pages/Models.js';
import { pageHref, PAGES, useInfo, useRoute, type Page } from './store.js';
import { ConnectionBanner } from './widgets.js';
import './styles.css';

const TITLES: Record<Page, string> = { train: 'Train', denoise: 'Denoise', latent: 'Latent space', text: 'Text', series: 'Series', anomalies: 'Anomalies', models: 'Models' };

function TopBar({ page }: { page: Page }) {
  const { value: info, error } = useInfo();
  return (
    <header class="topbar">
      <a class="brand" href={pageHref('train')}>vaekit <span>studio</span></a>
      <nav>
        {PAGES.map((p) => (
          <a key={p} href={pageHref(p)} class={p === page ? 'active' : ''} aria-current={p === page ? 'page' : undefined} data-testid={`nav-${p}`}>{TITLES[p]}</a>
        ))}
      </nav>
      <span class="backend" title={info !== null ? `runs in ${info.runsDir}` : ''}>
        {info !== null ? `v${info.version} · ${info.backend.backend} backend · ${info.backend.threads} thread${info.backend.threads === 1 ? '' : 's'}`
          : error !== null ? <span class="error">{error}</span> : ''}
      </span>
    </header>
  );
}

function App() {
  const { page } = useRoute();
  return (
    <>
      <TopBar page={page} />
      <main data-page={page}>
        <ConnectionBanner />
        {page === 'train' ? <TrainPage /> : null}
        {page === 'denoise' ? <DenoisePage /> : null}
        {page === 'latent' ? <LatentPage /> : null}
        {page === 'text' ? <TextPage /> : null}
        {page === 'series' ? <SeriesPage /> : null}
        {page === 'anomalies' ? <AnomaliesPage /> : null}
        {page === 'models' ? <ModelsPage /> : null}
      </main>
    </>
  );
}

document.title = 'vaekit studio';
render(<App />, document.getElementById('app')!);
