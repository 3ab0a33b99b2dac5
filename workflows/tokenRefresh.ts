import { proxyActivities } from '@temporalio/workflow';
import type { PublicationActivities, TokenRefreshReport } from '../activities/publications';

const { refreshTargetTokens } = proxyActivities<PublicationActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3 },
});

/**
 * Run by `schedule:token-refresh` every TOKEN_REFRESH_INTERVAL (5.5 h): renews every target's
 * x-crm-token before its 6 h expiry, as reference 001 advises. The result lists each target's
 * outcome for operators.
 */
export async function tokenRefresh(): Promise<TokenRefreshReport[]> {
  return refreshTargetTokens();
}
