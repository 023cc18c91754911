// Starts the NHS.UK frontend components. Loaded as a module (so only by browsers the frontend
// supports); the pages work without it. No inline script: the Content-Security-Policy forbids them.
import { initAll } from '__NHSUK_FRONTEND_JS__'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
