/** The audio log (lydlogg): search by time and caller, play with a stated reason — once the API exists. */
import { t } from '../../i18n.js';

export function AudioLog() {
  return (
    <section class="card" data-testid="audio">
      <p>{t('audio.unavailable')}</p>
    </section>
  );
}
