package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.metrics.OutboxMetrics;
import io.github.pulsaroutbox.operations.OutboxOperations;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import org.axonframework.common.jdbc.JdbcException;
import org.axonframework.common.transaction.NoTransactionManager;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;

import java.time.Clock;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/** The endpoint answers a database outage with 503 and its cause, never a bare 500. */
class OutboxEndpointTest {

    @Test
    @SuppressWarnings("unchecked")
    void anUnreachableOutboxIsA503WithTheCause() {
        OutboxMaintenance maintenance = mock(OutboxMaintenance.class);
        JdbcException down = new JdbcException("Outbox table 'axon_outbox': Connection refused", null);
        when(maintenance.count(any(OutboxStatus.class))).thenThrow(down);
        when(maintenance.find(anyString())).thenThrow(down);
        OutboxEndpoint endpoint = new OutboxEndpoint(
                new OutboxOperations(maintenance, NoTransactionManager.instance(), () -> {
                }, OutboxMetrics.NOOP, Clock.systemUTC()), mock(OutboxRelay.class),
                new io.github.pulsaroutbox.metrics.OutboxStatistics(maintenance, NoTransactionManager.instance(),
                                                                    java.time.Duration.ofSeconds(5),
                                                                    Clock.systemUTC()));

        for (WebEndpointResponse<Object> response : new WebEndpointResponse[]{
                endpoint.outbox(null, null, null, null), endpoint.row("id-1")}) {
            assertThat(response.getStatus()).isEqualTo(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE);
            assertThat((Map<String, Object>) response.getBody())
                    .hasEntrySatisfying("error", error -> assertThat((String) error).contains("Connection refused"));
        }
    }
}
