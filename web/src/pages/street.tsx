import { get, qs } from '../api';
import { t } from '../i18n';
import { PageTitle, Show, useLoad } from '../util';
import { thisMonth } from './common';
import type { CommunityFigures } from '../../../engine/street-view';

/** The street office's page: its communities side by side, ranked by their grids' mean total, each a link to its dashboard. */
export function StreetPage() {
  const month = thisMonth();
  const data = useLoad(() => get<{ month: string; communities: CommunityFigures[] }>(`/api/street${qs({ month })}`), []);
  return (
    <>
      <PageTitle>{t('streetTitle')}</PageTitle>
      <Show of={data}>
        {({ communities }) => (
          <>
            {communities[0] && <p class="muted">{communities[0].street.name}</p>}
            <table class="street">
              <caption>{t('streetCaption', { month })}</caption>
              <thead>
                <tr>
                  <th scope="col" class="num">
                    {t('rank')}
                  </th>
                  <th scope="col">{t('community')}</th>
                  <th scope="col" class="num">
                    {t('gridsCount')}
                  </th>
                  <th scope="col" class="num">
                    {t('running')}
                  </th>
                  <th scope="col" class="num">
                    {t('overdue')}
                  </th>
                  <th scope="col" class="num">
                    {t('openIssues')}
                  </th>
                  <th scope="col" class="num">
                    {t('escalatedToStreet')}
                  </th>
                  <th scope="col" class="num">
                    {t('meanTotal')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {communities.map((c) => (
                  <tr key={c.id} data-community={c.id}>
                    <td class="num">{c.rank ?? '—'}</td>
                    <th scope="row">
                      <a href={`#/dashboard${qs({ community: c.id })}`}>{c.name}</a>
                    </th>
                    <td class="num">{c.grids}</td>
                    <td class="num">{c.running}</td>
                    <td class={c.overdue ? 'num warn' : 'num'}>{c.overdue}</td>
                    <td class="num">{c.openIssues}</td>
                    <td class={c.escalatedToStreet ? 'num warn' : 'num'}>{c.escalatedToStreet}</td>
                    <td class="num">
                      {c.evaluation.meanTotal ?? t('noData')}
                      {c.evaluation.meanTotal !== null && c.evaluation.source === 'provisional' ? ` (${t('provisional')})` : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Show>
    </>
  );
}
