import { askEarly } from './early';

// The page's entry: asks for the region page's answer first, then loads the page itself (a separate chunk).
askEarly();
void import('./main');
