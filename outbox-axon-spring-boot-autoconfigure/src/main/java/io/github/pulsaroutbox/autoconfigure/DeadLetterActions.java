package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The Actuator answers on one processing group's parked events, shared by the {@code outbox} endpoint in the tailing
 * mode and the {@code receiving} endpoint: a page of them, one of them, {@code retry} / {@code discard} of one,
 * {@code retry-aggregate} / {@code retry-all}. A bad request answers 400, an unknown event 404, a group without a
 * dead-letter queue or an unreachable queue 503, each with an {@code error} saying why.
 */
final class DeadLetterActions {

    private DeadLetterActions() {
    }

    /** {@code head} followed by the number of parked aggregates and a page of parked events. */
    static WebEndpointResponse<Object> page(ProcessingGroupDeadLetters deadLetters, Map<String, Object> head,
                                            String aggregateId, Integer page, Integer size) {
        Map<String, Object> body = new LinkedHashMap<>(head);
        body.put("parkedAggregates", deadLetters.sequences());
        body.put("parked", deadLetters.list(aggregateId, page == null ? 0 : page, size == null ? 20 : size));
        return new WebEndpointResponse<>(body);
    }

    /** The parked event with this id, or 404. */
    static WebEndpointResponse<Object> letter(ProcessingGroupDeadLetters deadLetters, String id) {
        return deadLetters.find(id).map(letter -> new WebEndpointResponse<Object>(letter))
                          .orElseGet(() -> notFound(id));
    }

    /** {@code retry} or {@code discard} of one parked event. */
    static WebEndpointResponse<Object> act(ProcessingGroupDeadLetters deadLetters, String id, String action,
                                           String reason, String actor) {
        boolean done;
        switch (action == null ? "" : action) {
            case "retry" -> done = deadLetters.retry(id, actor, reason);
            case "discard" -> done = deadLetters.discard(id, actor, reason);
            default -> {
                return OutboxEndpoint.badRequest("unknown action '" + action + "': use retry or discard");
            }
        }
        return done ? new WebEndpointResponse<>(Map.of("id", id, "action", action, "by", actor)) : notFound(id);
    }

    /** {@code retry-aggregate} (needs {@code aggregateId}) or {@code retry-all}. */
    static WebEndpointResponse<Object> bulk(ProcessingGroupDeadLetters deadLetters, String action, String aggregateId,
                                            String reason, String actor) {
        int handled;
        switch (action == null ? "" : action) {
            case "retry-aggregate" -> {
                if (aggregateId == null) {
                    return OutboxEndpoint.badRequest("retry-aggregate needs aggregateId");
                }
                handled = deadLetters.retryAggregate(aggregateId, actor, reason);
            }
            case "retry-all" -> handled = deadLetters.retryAll(actor, reason);
            default -> {
                return OutboxEndpoint.badRequest("unknown action '" + action + "': use retry-aggregate or retry-all");
            }
        }
        return new WebEndpointResponse<>(Map.of("action", action, "rows", handled, "by", actor));
    }

    /**
     * Runs {@code call} on the group's parked events: 503 with {@code missing} when the group has no dead-letter
     * queue, 400 for an invalid argument, 503 when the queue cannot be reached.
     */
    static WebEndpointResponse<Object> guarded(Optional<ProcessingGroupDeadLetters> deadLetters, String missing,
                                               Function<ProcessingGroupDeadLetters, WebEndpointResponse<Object>> call) {
        if (deadLetters.isEmpty()) {
            return new WebEndpointResponse<>(Map.of("error", missing), WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE);
        }
        try {
            return call.apply(deadLetters.get());
        } catch (IllegalArgumentException e) {
            return OutboxEndpoint.badRequest(e.getMessage());
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(DeadLetterActions.class).warn("A dead-letter queue could not be reached", e);
            return new WebEndpointResponse<>(Map.of("error", "the dead-letter queue cannot be reached: "
                    + e.getMessage()), WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE);
        }
    }

    static WebEndpointResponse<Object> notFound(String id) {
        return new WebEndpointResponse<>(Map.of("error", "no parked event " + id),
                                         WebEndpointResponse.STATUS_NOT_FOUND);
    }
}
