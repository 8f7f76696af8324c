package io.github.pulsaroutbox.autoconfigure;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ReceivingEndpointTest {

    private final ParkedEvents parked = new ParkedEvents().park("o-1", 3, true).park("o-1", 4, false)
                                                          .park("o-2", 0, true);
    private final ReceivingEndpoint endpoint = new ReceivingEndpoint(parked.deadLetters);

    @Nested
    class Reading {

        @Test
        void listsEachReceivingGroupWithWhatIsParkedInIt() {
            assertThat(endpoint.groups()).isEqualTo(Map.of("groups", Map.of(
                    "audit", Map.of("deadLetterQueue", false),
                    "billing", Map.of("deadLetterQueue", true, "parkedAggregates", 2L, "parkedEvents", 3L))));
        }

        @Test
        @SuppressWarnings("unchecked")
        void pagesAGroupsParkedEventsAllOrOfOneAggregate() {
            WebEndpointResponse<Object> all = endpoint.group("billing", null, null, null);
            WebEndpointResponse<Object> one = endpoint.group("billing", "o-1", 0, 1);

            assertThat(all.getStatus()).isEqualTo(200);
            assertThat((List<?>) ((Map<String, Object>) all.getBody()).get("parked")).hasSize(3);
            assertThat(((Map<String, Object>) one.getBody()).get("parked").toString())
                    .contains("id=o-1-3").contains("IllegalStateException: refused").doesNotContain("o-1-4");
        }

        @Test
        void showsOneParkedEventOrAnswers404() {
            assertThat(endpoint.letter("billing", "o-1-4").getBody().toString()).contains("aggregateId=o-1")
                                                                                 .contains("sequence=4");
            assertThat(endpoint.letter("billing", "o-9-0").getStatus()).isEqualTo(404);
        }

        @Test
        void answers404ForAnUnknownGroupAnd503ForAGroupWithoutAQueue() {
            assertThat(endpoint.group("shipping", null, null, null).getStatus()).isEqualTo(404);
            WebEndpointResponse<Object> audit = endpoint.group("audit", null, null, null);
            assertThat(audit.getStatus()).isEqualTo(503);
            assertThat(audit.getBody().toString()).contains("axon.eventhandling.processors.audit.dlq.enabled=true");
        }
    }

    @Nested
    class Acting {

        @Test
        void retryAppliesTheFirstParkedEventOfItsAggregateAndTheOnesBehindIt() {
            WebEndpointResponse<Object> retried = endpoint.act("billing", "o-1-3", "retry", "fixed", null);

            assertThat(retried.getStatus()).isEqualTo(200);
            assertThat(parked.applied).containsExactly("placed o-1 3", "placed o-1 4");
            assertThat(parked.queue.size()).isEqualTo(1);
        }

        @Test
        void retryOfAnEventWaitingBehindAnotherDoesNothing() {
            assertThat(endpoint.act("billing", "o-1-4", "retry", "fixed", null).getStatus()).isEqualTo(404);
            assertThat(parked.applied).isEmpty();
        }

        @Test
        void discardNeedsAReasonAndRemovesTheEventForGood() {
            assertThat(endpoint.act("billing", "o-2-0", "discard", null, null).getStatus()).isEqualTo(400);
            assertThat(endpoint.act("billing", "o-2-0", "discard", "a test order", null).getStatus()).isEqualTo(200);

            assertThat(parked.queue.contains("o-2")).isFalse();
            assertThat(parked.applied).isEmpty();
        }

        @Test
        void retriesOneAggregateOrAll() {
            assertThat(endpoint.bulk("billing", "retry-aggregate", null, null, null).getStatus()).isEqualTo(400);
            assertThat(endpoint.bulk("billing", "retry-aggregate", "o-2", null, null).getBody().toString())
                    .contains("rows=1");
            assertThat(endpoint.bulk("billing", "retry-all", null, "fixed", null).getBody().toString())
                    .contains("rows=2");

            assertThat(parked.applied).containsExactly("placed o-2 0", "placed o-1 3", "placed o-1 4");
            assertThat(parked.queue.size()).isZero();
        }

        @Test
        void refusesAnUnknownAction() {
            assertThat(endpoint.act("billing", "o-1-3", "replay", null, null).getStatus()).isEqualTo(400);
            assertThat(endpoint.bulk("billing", "replay", null, null, null).getStatus()).isEqualTo(400);
        }
    }
}
