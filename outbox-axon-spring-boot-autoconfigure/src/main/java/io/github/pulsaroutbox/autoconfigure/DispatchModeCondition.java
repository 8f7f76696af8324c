package io.github.pulsaroutbox.autoconfigure;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches the beans of one dispatch mode ({@code pulsar-outbox.mode}): the outbox table (default) or tailing the
 * event store. Read leniently ({@code tailing}, {@code TAILING}); any other value is the outbox-table mode, and binding
 * the properties rejects values that are neither.
 */
abstract class DispatchModeCondition extends SpringBootCondition {

    static final String PROPERTY = OutboxProperties.PREFIX + ".mode";

    private final boolean tailing;

    DispatchModeCondition(boolean tailing) {
        this.tailing = tailing;
    }

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        String mode = context.getEnvironment().getProperty(PROPERTY, "outbox-table");
        boolean isTailing = mode.trim().replace('_', '-').equalsIgnoreCase("tailing");
        return isTailing == tailing ? ConditionOutcome.match(PROPERTY + "=" + mode)
                                    : ConditionOutcome.noMatch(PROPERTY + "=" + mode);
    }

    /** The outbox-table mode (the default). */
    static final class OutboxTable extends DispatchModeCondition {
        OutboxTable() {
            super(false);
        }
    }

    /** The tailing mode. */
    static final class Tailing extends DispatchModeCondition {
        Tailing() {
            super(true);
        }
    }
}
