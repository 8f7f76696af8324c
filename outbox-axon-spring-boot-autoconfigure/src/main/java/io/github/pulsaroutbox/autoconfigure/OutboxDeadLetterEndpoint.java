package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.tailing.EventStoreTailingModule;
import io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;

import java.util.Map;
import java.util.function.Function;

/**
 * The {@code outbox} Actuator endpoint in the tailing mode: the same paths and actions as in the outbox-table mode,
 * on the parked events of the tailing processor's dead-letter queue.
 * <ul>
 *     <li>{@code GET /actuator/outbox?aggregateId=&page=&size=}: the processor and a page of parked events;</li>
 *     <li>{@code GET /actuator/outbox/{id}}: one parked event with its cause;</li>
 *     <li>{@code POST /actuator/outbox/{id}} {@code {"action":"retry"|"discard","reason":"..."}} (retry: the first
 *     parked event of its aggregate, then the ones behind it);</li>
 *     <li>{@code POST /actuator/outbox} {@code {"action":"retry-aggregate","aggregateId":".."}} or
 *     {@code {"action":"retry-all"}}.</li>
 * </ul>
 * Without a dead-letter queue for the processor, every operation answers 503 saying how to configure one.
 */
@Endpoint(id = "outbox")
class OutboxDeadLetterEndpoint {

    private final EventStoreTailingModule module;

    OutboxDeadLetterEndpoint(EventStoreTailingModule module) {
        this.module = module;
    }

    @ReadOperation
    public WebEndpointResponse<Object> outbox(@Nullable String aggregateId, @Nullable Integer page,
                                              @Nullable Integer size) {
        return guarded(deadLetters -> DeadLetterActions.page(
                deadLetters, Map.of("mode", "tailing", "processorName", module.processorName()), aggregateId, page,
                size));
    }

    @ReadOperation
    public WebEndpointResponse<Object> row(@Selector String id) {
        return guarded(deadLetters -> DeadLetterActions.letter(deadLetters, id));
    }

    @WriteOperation
    public WebEndpointResponse<Object> act(@Selector String id, String action, @Nullable String reason,
                                           SecurityContext securityContext) {
        return guarded(deadLetters -> DeadLetterActions.act(deadLetters, id, action, reason,
                                                            OutboxEndpoint.actor(securityContext)));
    }

    @WriteOperation
    public WebEndpointResponse<Object> bulk(String action, @Nullable String aggregateType,
                                            @Nullable String aggregateId, @Nullable String reason,
                                            SecurityContext securityContext) {
        return guarded(deadLetters -> DeadLetterActions.bulk(deadLetters, action, aggregateId, reason,
                                                             OutboxEndpoint.actor(securityContext)));
    }

    private WebEndpointResponse<Object> guarded(
            Function<ProcessingGroupDeadLetters, WebEndpointResponse<Object>> call) {
        return DeadLetterActions.guarded(module.deadLetters(), "the tailing processor '" + module.processorName()
                + "' has no dead-letter queue: set axon.eventhandling.processors." + module.processorName()
                + ".dlq.enabled=true", call);
    }
}
