package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.tailing.EventStoreTailingModule;
import io.github.pulsaroutbox.tailing.TailingDeadLetters;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.lang.Nullable;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

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
        return guarded(deadLetters -> {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("mode", "tailing");
            body.put("processorName", module.processorName());
            body.put("parkedAggregates", deadLetters.sequences());
            body.put("parked", deadLetters.list(aggregateId, page == null ? 0 : page, size == null ? 20 : size));
            return new WebEndpointResponse<>(body);
        });
    }

    @ReadOperation
    public WebEndpointResponse<Object> row(@Selector String id) {
        return guarded(deadLetters -> deadLetters.find(id)
                .map(letter -> new WebEndpointResponse<Object>(letter))
                .orElseGet(() -> notFound(id)));
    }

    @WriteOperation
    public WebEndpointResponse<Object> act(@Selector String id, String action, @Nullable String reason,
                                           SecurityContext securityContext) {
        return guarded(deadLetters -> {
            String actor = OutboxEndpoint.actor(securityContext);
            boolean done;
            switch (action) {
                case "retry" -> done = deadLetters.retry(id, actor, reason);
                case "discard" -> done = deadLetters.discard(id, actor, reason);
                default -> {
                    return OutboxEndpoint.badRequest("unknown action '" + action + "': use retry or discard");
                }
            }
            return done ? new WebEndpointResponse<>(Map.of("id", id, "action", action, "by", actor))
                        : notFound(id);
        });
    }

    @WriteOperation
    public WebEndpointResponse<Object> bulk(String action, @Nullable String aggregateType,
                                            @Nullable String aggregateId, @Nullable String reason,
                                            SecurityContext securityContext) {
        return guarded(deadLetters -> {
            String actor = OutboxEndpoint.actor(securityContext);
            int published;
            switch (action) {
                case "retry-aggregate" -> {
                    if (aggregateId == null) {
                        return OutboxEndpoint.badRequest("retry-aggregate needs aggregateId");
                    }
                    published = deadLetters.retryAggregate(aggregateId, actor, reason);
                }
                case "retry-all" -> published = deadLetters.retryAll(actor, reason);
                default -> {
                    return OutboxEndpoint.badRequest("unknown action '" + action
                                                             + "': use retry-aggregate or retry-all");
                }
            }
            return new WebEndpointResponse<>(Map.of("action", action, "rows", published, "by", actor));
        });
    }

    private WebEndpointResponse<Object> guarded(
            java.util.function.Function<TailingDeadLetters, WebEndpointResponse<Object>> call) {
        Optional<TailingDeadLetters> deadLetters = module.deadLetters();
        if (deadLetters.isEmpty()) {
            return new WebEndpointResponse<>(Map.of("error", "the tailing processor '" + module.processorName()
                    + "' has no dead-letter queue: set axon.eventhandling.processors." + module.processorName()
                    + ".dlq.enabled=true"), WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE);
        }
        try {
            return call.apply(deadLetters.get());
        } catch (IllegalArgumentException e) {
            return OutboxEndpoint.badRequest(e.getMessage());
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(OutboxDeadLetterEndpoint.class)
                         .warn("The outbox endpoint could not reach the dead-letter queue", e);
            return new WebEndpointResponse<>(Map.of("error", "the dead-letter queue cannot be reached: "
                    + e.getMessage()), WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE);
        }
    }

    private static WebEndpointResponse<Object> notFound(String id) {
        return new WebEndpointResponse<>(Map.of("error", "no parked event " + id), WebEndpointResponse.STATUS_NOT_FOUND);
    }
}
