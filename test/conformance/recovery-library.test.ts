import { LibraryLikeClient } from '../helpers/conformance/library-client.js';
import { CREDS, TIME_SCALE, conformanceSuite } from '../helpers/conformance/matrix.js';

// A client that behaves like Zoom's helper library: split sockets, reconnects 3 s after any close.
conformanceSuite('the helper library', () => new LibraryLikeClient(CREDS, TIME_SCALE));
