/** The technician's view: every detail, in sections; actions only for technicians and admins. */
import { type MsgKey, t } from '../i18n.js';
import type { LiveConnection, LiveState } from '../live.js';
import type { User } from '../wire.js';
import { RoutePanel } from './Operator.js';
import { Actions } from './tech/Actions.js';
import { AudioLog } from './tech/AudioLog.js';
import { Deviations } from './tech/Deviations.js';
import { EventLog } from './tech/EventLog.js';
import { History } from './tech/History.js';
import { Subsystems } from './tech/Subsystems.js';
import { Timeline } from './tech/Timeline.js';

export const TECH_SECTIONS = ['overview', 'history', 'timeline', 'events', 'deviations', 'actions', 'audio'] as const;
export type TechSection = (typeof TECH_SECTIONS)[number];

export function TechnicianView({ live, conn, section, user }: { live: LiveState; conn: LiveConnection; section: TechSection; user: User }) {
  return (
    <div class="technician" data-testid="technician-view">
      <nav aria-label={t('tech.sections')} class="subnav">
        <ul>
          {TECH_SECTIONS.map((s) => (
            <li key={s}>
              <a href={`#/technician/${s}`} aria-current={s === section ? 'page' : undefined} data-testid={`tab-${s}`}>
                {t(`tech.${s}` as MsgKey)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="compact-route">
        <RoutePanel live={live} compact />
      </div>
      <section aria-labelledby="tech-h">
        <h2 id="tech-h">{t(`tech.${section}` as MsgKey)}</h2>
        {section === 'overview' ? <Subsystems live={live} /> : null}
        {section === 'history' ? <History live={live} /> : null}
        {section === 'timeline' ? <Timeline live={live} /> : null}
        {section === 'events' ? <EventLog live={live} /> : null}
        {section === 'deviations' ? <Deviations live={live} conn={conn} /> : null}
        {section === 'actions' ? <Actions live={live} key={user.username} /> : null}
        {section === 'audio' ? <AudioLog user={user} key={user.username} /> : null}
      </section>
    </div>
  );
}
