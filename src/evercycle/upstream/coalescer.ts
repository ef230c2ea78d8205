import type { UpstreamSignal } from '../client.js'
import { AbortEmitter, abortReason, onAbort } from './abort-emitter.js'

interface Flight<T> {
  promise: Promise<T>
  /** Callers still waiting (joined and not aborted). */
  waiters: number
  /** Aborted when the last waiter has gone: nobody is left to use the answer. */
  controller: AbortEmitter
}

/**
 * Concurrent callers with the same key share one call of the first caller's `fn`.
 *
 * `fn` never sees any one caller's AbortSignal: the call is everyone's, and the first caller hanging up must not
 * fail it for the 399 others who joined. Each waiter's signal only stops that waiter's wait. Instead `fn` gets a
 * signal of its own that aborts when every waiter has given up, so an answer nobody wants stops costing upstream
 * budget; a waiter without a signal never gives up, so while one is there the call runs to the end.
 */
export class Coalescer<T> {
  private readonly flights = new Map<string, Flight<T>>()
  private joined = 0

  /** Callers that shared a call rather than started one. */
  get coalesced(): number {
    return this.joined
  }

  /** Calls in flight now. */
  get inFlight(): number {
    return this.flights.size
  }

  run(key: string, fn: (signal: UpstreamSignal) => Promise<T>, signal?: UpstreamSignal): Promise<{ value: T; shared: boolean }> {
    if (signal?.aborted === true) return Promise.reject(abortReason(signal))
    let flight = this.flights.get(key)
    const shared = flight !== undefined
    if (flight === undefined) flight = this.start(key, fn)
    else this.joined++
    flight.waiters++
    return this.wait(key, flight, shared, signal)
  }

  private start(key: string, fn: (signal: UpstreamSignal) => Promise<T>): Flight<T> {
    const controller = new AbortEmitter()
    // fn starts a microtask later, once the flight is registered: a synchronous throw becomes the shared
    // rejection, and the entry is gone before any waiter sees the outcome, so a caller reacting to it starts anew.
    const promise = Promise.resolve()
      .then(() => fn(controller))
      .then(
        (value) => {
          this.forget(key, flight)
          return value
        },
        (error: unknown) => {
          this.forget(key, flight)
          throw error
        }
      )
    const flight: Flight<T> = { promise, waiters: 0, controller }
    this.flights.set(key, flight)
    return flight
  }

  private wait(key: string, flight: Flight<T>, shared: boolean, signal?: UpstreamSignal): Promise<{ value: T; shared: boolean }> {
    if (signal === undefined) return flight.promise.then((value) => ({ value, shared }))
    return new Promise((resolve, reject) => {
      const abort = (): void => {
        reject(abortReason(signal))
        if (--flight.waiters > 0) return
        // Nobody is left: later callers must not join a call that is being cancelled.
        this.forget(key, flight)
        flight.controller.abort()
      }
      const dispose = onAbort(signal, abort)
      flight.promise.then(
        (value) => {
          dispose()
          resolve({ value, shared })
        },
        (error: unknown) => {
          dispose()
          reject(error)
        }
      )
    })
  }

  private forget(key: string, flight: Flight<T>): void {
    if (this.flights.get(key) === flight) this.flights.delete(key)
  }
}
