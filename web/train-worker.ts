// The demo's training worker: everything it does is ferronet's serveTrainingWorker.
import { serveTrainingWorker } from 'ferronet';

serveTrainingWorker();
