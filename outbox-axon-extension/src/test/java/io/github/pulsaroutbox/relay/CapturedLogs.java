package io.github.pulsaroutbox.relay;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.List;

/** What a logger logged while an action ran, for tests of log messages. */
final class CapturedLogs {

    private CapturedLogs() {
    }

    /** The events {@code loggerOf}'s logger logged while {@code action} ran. */
    static List<ILoggingEvent> during(Class<?> loggerOf, Runnable action) {
        Logger logger = (Logger) LoggerFactory.getLogger(loggerOf);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            action.run();
        } finally {
            logger.detachAppender(appender);
        }
        return appender.list;
    }
}
